function run() {
  start();

  stop(1);
}
