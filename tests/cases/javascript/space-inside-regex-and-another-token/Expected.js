const re = /a  b/; const y = 2;
