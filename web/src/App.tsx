import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { Navigate, NavLink, Outlet, Route, Routes, useLocation, useNavigate } from 'react-router';
import { SessionProvider, useSession } from './api/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { SearchBox } from './components/SearchBox';
import { ErrorState, Loading, NotAllowed } from './components/States';
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
            <Route
              path="board"
              element={
                <Allowed
                  action={['monitor:read', 'project:read']}
                  title="Board"
                  what="see the workflow board; your tickets are on the start page"
                >
                  <Board />
                </Allowed>
              }
            />
            <Route path="tickets" element={<Tickets />} />
            <Route path="tickets/:id" element={<TicketPage />} />
            <Route
              path="delayed"
              element={
                <Allowed
                  action={['monitor:read']}
                  title="Delayed tickets"
                  what="see the list of late tickets; your tickets are on the start page"
                >
                  <Delayed />
                </Allowed>
              }
            />
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

/** The signed-in frame: navigation for what this person may do, live status, and the page. */
function Shell() {
  const { me, abilities, loading, error, logout } = useSession();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  // A new page closes the phone menu.
  useEffect(() => setMenuOpen(false), [location.pathname]);
  if (loading) return <Loading label="Signing in…" />;
  if (error) return <ErrorState error={error} retry={() => window.location.reload()} />;
  if (!me) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  const monitor = abilities.has('monitor:read');
  const projects = abilities.has('project:read');
  return (
    // The live stream is for those who may read it (customers are not given it); their pages refresh on focus instead.
    <LiveProvider enabled={abilities.has('events:read')}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className={`topbar${menuOpen ? ' menu-open' : ''}`}>
        <NavLink to="/" className="brand" end>
          Stageline
        </NavLink>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-menu"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <span aria-hidden="true">☰</span> Menu
        </button>
        <div className="menu" id="main-menu">
          <nav aria-label="Main">
            <NavLink to="/" end>
              {monitor ? 'Overview' : 'My tickets'}
            </NavLink>
            {monitor && projects && <NavLink to="/board">Board</NavLink>}
            {monitor && <NavLink to="/tickets">Tickets</NavLink>}
            {monitor && <NavLink to="/delayed">Delayed</NavLink>}
            {abilities.has('user:manage') && <NavLink to="/admin">Admin</NavLink>}
          </nav>
          {monitor && <TopSearch />}
          <div className="who">
            {abilities.has('events:read') && <LiveIndicator />}
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

/** A page only some may open: the others are told so in plain words, and the page itself never loads. */
function Allowed({ action, title, what, children }: { action: string[]; title: string; what: string; children: ReactNode }) {
  const { abilities } = useSession();
  return action.every((one) => abilities.has(one)) ? children : <NotAllowed title={title} what={what} />;
}
