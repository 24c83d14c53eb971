/**
 * The public API for writing bots: the model, rich text, buttons, the Bot with its composer,
 * context, dialogs and translations, and the runtime contract it implements.
 */
export * from './model.ts';
export * from './format.ts';
export * from './buttons.ts';
export type { BotLogic, HandleInput, HandleOutput, Json, JsonObject, OutboxItem } from './handling.ts';
export { Bot, type BotOptions } from './bot.ts';
export {
  BotError,
  Composer,
  FILTER_QUERIES,
  matchFilter,
  parseCommand,
  type ActionContext,
  type AnyContext,
  type CommandContext,
  type FilterMap,
  type FilterQuery,
  type Filtered,
  type HearsContext,
  type MatchOf,
  type MaybeArray,
  type MaybePromise,
  type Middleware,
  type MiddlewareFn,
  type MiddlewareObj,
  type NextFunction,
  type StartContext,
  type SystemContext,
} from './composer.ts';
export { Context, toMessage, type ContextServices, type MessageExtra } from './context.ts';
export { DIALOG_STATE_KEY, Dialog, DialogControl, type AskOptions, type DialogPosition, type Say } from './dialog.ts';
export {
  CORE_MESSAGES,
  I18n,
  flattenMessages,
  pickLanguage,
  placeholders,
  type Messages,
  type Param,
  type RichParam,
  type Translation,
} from './i18n.ts';
