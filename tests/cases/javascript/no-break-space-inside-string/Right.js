const s = "a b"; const n = 1;
