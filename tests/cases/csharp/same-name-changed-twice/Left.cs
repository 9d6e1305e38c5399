namespace Shop
{
    public class Cart
    {
        public decimal Sum { get; set; }
    }
}
