public class Server {
    public static void main(String[] args) {
        Server s = new Server("0.0.0.0", 8080, true);
    }
}
