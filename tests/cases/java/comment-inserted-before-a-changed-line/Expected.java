class Runner {
    void run() {
        start();
        // the pump must stop before the valve
        stop(2);
    }
}
