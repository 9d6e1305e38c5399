namespace Shop
{
    public class Cart
    {
<<<<<<< Left
        public decimal Sum { get; set; }
=======
        public decimal Amount { get; set; }
>>>>>>> Right
    }
}
