public class Server {
    public static void main(String[] args) {
        Server s = new Server("localhost", 8080, true);
    }
}
