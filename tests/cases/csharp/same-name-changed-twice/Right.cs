namespace Shop
{
    public class Cart
    {
        public decimal Amount { get; set; }
    }
}
