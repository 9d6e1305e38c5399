public class Server {
    public static void main(String[] args) {
<<<<<<< Left
        int port = 9090;
=======
        int port = 7070;
>>>>>>> Right
    }
}
