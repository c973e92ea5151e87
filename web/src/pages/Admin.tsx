import { NavLink, Route, Routes } from 'react-router';
import { useCan } from '../api/session';
import { NotAllowed } from '../components/States';
import { Projects } from './admin/Projects';
import { SentMail } from './admin/SentMail';
import { Tokens } from './admin/Tokens';
import { Users } from './admin/Users';
import { Webhooks } from './admin/Webhooks';

export default function Admin() {
  const mayAdminister = useCan('user:manage');
  if (!mayAdminister) return <NotAllowed title="Admin" what="manage users, tokens and workflows" />;
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
