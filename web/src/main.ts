/**
 * Dashboard entry point: mounts the app with the page's one socket connection.
 */
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { createDashboardSocket } from './lib/socket.ts';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element to mount the dashboard in');

mount(App, { target, props: { socket: createDashboardSocket() } });
