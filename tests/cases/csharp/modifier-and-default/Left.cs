namespace Shop
{
    public class Cart
    {
        public int Count { get; private set; } = 0;
    }
}
