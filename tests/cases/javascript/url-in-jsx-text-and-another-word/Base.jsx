export const Help = () => (
  <p>
    Read the spec first now
  </p>
);
