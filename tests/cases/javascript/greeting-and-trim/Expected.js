function greet(name) {
  return "Hi, " + name.trim();
}
