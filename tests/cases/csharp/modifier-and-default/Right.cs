namespace Shop
{
    public class Cart
    {
        public int Count { get; set; } = 1;
    }
}
