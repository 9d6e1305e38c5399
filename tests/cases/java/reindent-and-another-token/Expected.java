class A {
	void f() {
		g(4, 3);
	}
}
