class Runner {
    void run() {
        start();

        stop(1);
    }
}
