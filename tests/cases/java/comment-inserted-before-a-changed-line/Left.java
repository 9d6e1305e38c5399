class Runner {
    void run() {
        start();
        stop(2);
    }
}
