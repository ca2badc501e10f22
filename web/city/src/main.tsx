import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../../shared/styles.css';
import './city.css';
import { CityApp } from './CityApp.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <CityApp />
  </StrictMode>,
);
