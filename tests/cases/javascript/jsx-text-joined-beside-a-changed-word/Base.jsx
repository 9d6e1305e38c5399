export const Greeting = ({ user }) => (
  <p>
    Hello
    <b>{user.name}</b>
  </p>
);
