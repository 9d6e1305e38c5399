const a = f(1, 3);
