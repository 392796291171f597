import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON logs through pino, one object per line, with a `service` field; pretty-printed
 * when stdout is a terminal. HTTP requests are not logged one by one (the API serves
 * thousands a second); errors are, by the exception filter.
 */
export function loggingModule(service: string, level: LogLevel): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      level,
      base: { service },
      autoLogging: false,
      quietReqLogger: true,
      transport: process.stdout.isTTY
        ? {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          }
        : undefined,
    },
  });
}
