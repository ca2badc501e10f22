import { webAppConfig } from '../vite.shared.config.ts';

export default webAppConfig('admin');
