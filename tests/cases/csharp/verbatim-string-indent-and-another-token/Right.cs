class A {
    string s = @"line1
line2"; int n = 1;
}
