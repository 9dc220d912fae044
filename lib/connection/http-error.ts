// The typed error for failures that have an HTTP status (body too large, invalid JSON, request
// timeout): the dispatcher answers with `statusCode` instead of 500.

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;

  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
  }
}
