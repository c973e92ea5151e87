import { Link } from 'react-router';

export default function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no dashboard page here. <Link to="/">Go to the overview</Link>.
      </p>
    </section>
  );
}
