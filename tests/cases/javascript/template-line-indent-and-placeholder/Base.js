const s = `a
  b ${x}
c`;
