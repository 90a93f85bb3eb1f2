/**
 * Dashboard entry point: mounts the app with the operator session, the API client acting for it and
 * the page's one socket connection (which presents the session's token when there is one).
 */
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { ApiClient } from './lib/api.ts';
import { createDashboardSocket } from './lib/socket.ts';
import { OperatorSession } from './lib/state/operator-session.svelte.ts';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element to mount the dashboard in');

const session = new OperatorSession();
const api = new ApiClient({ token: () => session.token, onUnauthorized: () => session.markRejected() });
const socket = createDashboardSocket(() => session.token);

mount(App, { target, props: { socket, session, api } });
