import { lazy, Suspense } from 'react';
import { Navigate, NavLink, Outlet, Route, Routes, useLocation, useNavigate } from 'react-router';
import { may, SessionProvider, useSession } from './api/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { SearchBox } from './components/SearchBox';
import { ErrorState, Loading } from './components/States';
import { LiveProvider, useLive } from './live/events';

const Login = lazy(() => import('./pages/Login'));
const Overview = lazy(() => import('./pages/Overview'));
const Board = lazy(() => import('./pages/Board'));
const Tickets = lazy(() => import('./pages/Tickets'));
const Delayed = lazy(() => import('./pages/Delayed'));
const TicketPage = lazy(() => import('./pages/Ticket'));
const Admin = lazy(() => import('./pages/Admin'));
const Notifications = lazy(() => import('./pages/Notifications'));
const NotFound = lazy(() => import('./pages/NotFound'));

export function App() {
  return (
    <SessionProvider>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/login" element={<Login />} />
          <Route element={<Shell />}>
            <Route index element={<Overview />} />
            <Route path="board" element={<Board />} />
            <Route path="tickets" element={<Tickets />} />
            <Route path="tickets/:id" element={<TicketPage />} />
            <Route path="delayed" element={<Delayed />} />
            <Route path="admin/*" element={<Admin />} />
            <Route path="settings/notifications" element={<Notifications />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </Suspense>
    </SessionProvider>
  );
}

function LiveIndicator() {
  const { status } = useLive();
  const text = { live: 'Live', connecting: 'Connecting…', offline: 'Offline — retrying' }[status];
  return (
    <span className={`live live-${status}`} role="status" title="Changes appear without reloading while live">
      <span aria-hidden="true">●</span> {text}
    </span>
  );
}

/** Search from any page: Enter opens the tickets list with the search (the list has its own box). */
function TopSearch() {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  if (pathname === '/tickets') return null;
  return (
    <SearchBox
      className="top-search"
      label="Search tickets"
      hideLabel
      live={false}
      value=""
      placeholder="Search tickets…"
      onSearch={(q) => void navigate(`/tickets?q=${encodeURIComponent(q)}`)}
    />
  );
}

/** The signed-in frame: navigation for the viewer's role, live status, and the page. */
function Shell() {
  const { me, loading, error, logout } = useSession();
  const location = useLocation();
  if (loading) return <Loading label="Signing in…" />;
  if (error) return <ErrorState error={error} retry={() => window.location.reload()} />;
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  const customer = me.role === 'customer';
  return (
    // The live stream is for staff (customers are not given it); their pages refresh on focus instead.
    <LiveProvider enabled={!customer}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          Stageline
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            {customer ? 'My tickets' : 'Overview'}
          </NavLink>
          {!customer && <NavLink to="/board">Board</NavLink>}
          {!customer && <NavLink to="/tickets">Tickets</NavLink>}
          {!customer && <NavLink to="/delayed">Delayed</NavLink>}
          {may.admin(me.role) && <NavLink to="/admin">Admin</NavLink>}
        </nav>
        {!customer && <TopSearch />}
        <div className="who">
          {!customer && <LiveIndicator />}
          <span className="user" title={me.email ?? undefined}>
            {me.name} <span className="role">{me.role}</span>
          </span>
          <NavLink to="/settings/notifications" title="Which e-mail you get">
            Notifications
          </NavLink>
          <button type="button" className="link" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </main>
    </LiveProvider>
  );
}
