class A {
    String s = "a	b"; int n = 2;
}
