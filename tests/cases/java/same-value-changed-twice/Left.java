public class Server {
    public static void main(String[] args) {
        int port = 9090;
    }
}
