import { render } from 'preact';
import { App } from './App';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/screens.css';

render(<App />, document.getElementById('app')!);
