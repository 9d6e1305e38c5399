const s = `a
    b ${y}
c`;
