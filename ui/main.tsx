// The Sluice dashboard: Applications and Rollouts, live, acting through the same API
// and RBAC as the CLI. Served by the API at `/` (api/routes/dashboard.ts).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, token } from './api';
import { useRoute } from './router';
import { ApplicationsPage } from './pages/applications';
import { ApplicationPage } from './pages/application';
import { RolloutsPage } from './pages/rollouts';
import { RolloutPage } from './pages/rollout';
import { ApplicationSetPage, ApplicationSetsPage } from './pages/applicationsets';

export interface Settings {
  temporalUiUrl?: string;
  temporalNamespace?: string;
}

function Login() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    token.set(value.trim());
    try {
      await api('GET', '/api/v1/session');
      location.hash = '#/applications';
    } catch (err) {
      token.clear();
      setError((err as Error).message);
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Sluice</h1>
      <label>
        API token
        <input name="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autofocus />
      </label>
      <button type="submit">Log in</button>
      {error && <p class="error">{error}</p>}
      <p class="hint">
        Issue one with <code>sluice account generate-token</code>; it is kept in this tab only.
      </p>
    </form>
  );
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<{ account: string }>();
  const [settings, setSettings] = useState<Settings>();
  const loggedIn = !!token.get();
  useEffect(() => {
    if (!loggedIn) return;
    api('GET', '/api/v1/session').then(setSession, () => undefined);
    api('GET', '/api/v1/settings').then(setSettings, () => undefined);
  }, [loggedIn]);
  if (!loggedIn || route.path[0] === 'login') return <Login />;
  const [section, ns, name] = route.path;
  let page;
  if (section === 'rollouts' && ns && name) page = <RolloutPage namespace={ns} name={name} settings={settings} />;
  else if (section === 'rollouts') page = <RolloutsPage route={route} />;
  else if (section === 'applicationsets' && ns && name) page = <ApplicationSetPage namespace={ns} name={name} />;
  else if (section === 'applicationsets') page = <ApplicationSetsPage />;
  else if (section === 'applications' && ns && name) page = <ApplicationPage namespace={ns} name={name} settings={settings} />;
  else page = <ApplicationsPage route={route} />;
  // A link, not a button: the only buttons on a page are actions, so a read-only account sees none active.
  const logout = () => token.clear();
  return (
    <>
      <nav>
        <strong>Sluice</strong>
        <a href="#/applications" class={section === 'applications' || !section ? 'active' : ''}>
          Applications
        </a>
        <a href="#/applicationsets" class={section === 'applicationsets' ? 'active' : ''}>
          ApplicationSets
        </a>
        <a href="#/rollouts" class={section === 'rollouts' ? 'active' : ''}>
          Rollouts
        </a>
        <span class="spacer" />
        <span class="account" data-account={session?.account}>
          {session?.account}
        </span>
        <a href="#/login" class="logout" onClick={logout}>
          Log out
        </a>
      </nav>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
