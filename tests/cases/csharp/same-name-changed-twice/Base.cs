namespace Shop
{
    public class Cart
    {
        public decimal Total { get; set; }
    }
}
