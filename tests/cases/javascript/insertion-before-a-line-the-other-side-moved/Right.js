function run() {
  start();
  if (ready) {
    end();
  }
  stop(1);
}
