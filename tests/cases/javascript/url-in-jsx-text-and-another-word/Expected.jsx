export const Help = () => (
  <p>
    Read http://x.org the spec first now always
  </p>
);
