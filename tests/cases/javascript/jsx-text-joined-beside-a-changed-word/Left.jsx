export const Greeting = ({ user }) => (
  <p>
    Welcome back,
    <b>{user.name}</b>
  </p>
);
