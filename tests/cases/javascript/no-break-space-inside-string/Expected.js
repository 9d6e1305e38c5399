const s = "a b"; const n = 2;
