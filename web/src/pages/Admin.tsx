import { NavLink, Route, Routes } from 'react-router';
import { may, useSession } from '../api/session';
import { Projects } from './admin/Projects';
import { SentMail } from './admin/SentMail';
import { Tokens } from './admin/Tokens';
import { Users } from './admin/Users';
import { Webhooks } from './admin/Webhooks';

export default function Admin() {
  const { me } = useSession();
  if (!may.admin(me?.role)) {
    return (
      <section>
        <h1>Admin</h1>
        <p>Only admins can manage users, tokens and workflows.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      <nav className="tabs" aria-label="Admin sections">
        <NavLink to="/admin" end>
          Users
        </NavLink>
        <NavLink to="/admin/tokens">API tokens</NavLink>
        <NavLink to="/admin/projects">Projects and workflows</NavLink>
        <NavLink to="/admin/webhooks">Webhooks</NavLink>
        <NavLink to="/admin/mail">Sent mail</NavLink>
      </nav>
      <Routes>
        <Route index element={<Users />} />
        <Route path="tokens" element={<Tokens />} />
        <Route path="projects" element={<Projects />} />
        <Route path="webhooks" element={<Webhooks />} />
        <Route path="mail" element={<SentMail />} />
      </Routes>
    </section>
  );
}
