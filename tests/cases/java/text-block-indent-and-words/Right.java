class A {
    String s = """
        line ONE
          indented more
        """;
}
