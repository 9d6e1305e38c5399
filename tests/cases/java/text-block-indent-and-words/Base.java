class A {
    String s = """
        line one
          indented
        """;
}
