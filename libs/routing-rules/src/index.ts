export * from './decision.rules';
export * from './dnd-window.util';
export * from './conversation-key';
export * from './locale.util';
export * from './push-kind';
export * from './app-texts';
export * from './task-audience';
