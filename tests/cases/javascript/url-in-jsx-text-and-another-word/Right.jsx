export const Help = () => (
  <p>
    Read the spec first now always
  </p>
);
