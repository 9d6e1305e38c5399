function run() {
  start();
  stop(2);
}
