import packageJson from '../../package.json' with { type: 'json' };
import type { ToolInfo } from '../report/types.ts';

export const TOOL: ToolInfo = {
  name: 'dockfw-lint',
  version: packageJson.version,
  informationUri: 'https://github.com/dockfw-lint/dockfw-lint',
};
