import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { selectBackend } from './lib/backend';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
mount(App, { target, props: { backend: selectBackend() } });
