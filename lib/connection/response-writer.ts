// Turns what handlers give a response into bytes in the pipeline: the head with its keep-alive
// decision and framing, a whole body in one piece, streamed chunks, the end. Completing a response
// reports what the connection must do next (close, hand over, nothing in flight).

import { httpDate } from '../http1/date-cache.js';
import { errorResponse, serializeHead } from '../http1/head-writer.js';
import { UsageError } from '../http1/protocol-error.js';
import type { ConnectionHost } from './connection-host.js';
import { atResponseEnd, atResponseHead, KEEP, type ConnectionFacts } from './keep-alive-policy.js';
import type { IncomingRequest } from './incoming-request.js';
import type { CloseReason } from './lifecycle-stats.js';
import type { ResolvedOptions } from './options.js';
import { OutgoingResponse, type ResponseHost } from './outgoing-response.js';
import type { OutputWriter } from './output-writer.js';
import {
  buildHead, chunkAsBuffers, contentLengthLine, isCloseDelimited, joinsText, lastChunk, streamFraming, utf8Length, wholeAsBuffers,
} from './response-framing.js';
import { DISCARD, type RequestInput } from './request-input.js';
import { IN_FLIGHT, type Advance, type ResponsePipeline } from './response-pipeline.js';

export class ResponseWriter {
  private readonly host: ConnectionHost;
  private readonly options: ResolvedOptions;
  private readonly input: RequestInput;
  private readonly pipeline: ResponsePipeline;
  private readonly output: OutputWriter;
  /** The connection, as the keep-alive policy sees it. */
  private readonly facts: ConnectionFacts;

  constructor(host: ConnectionHost, input: RequestInput, pipeline: ResponsePipeline, output: OutputWriter, facts: ConnectionFacts) {
    this.host = host;
    this.options = host.config;
    this.input = input;
    this.pipeline = pipeline;
    this.output = output;
    this.facts = facts;
  }

  /**
   * Head and whole body, with Content-Length; true when output is due to be flushed. The hottest
   * path of the engine: written out in one function (V8 inlines a budget of bytecode per function,
   * and a chain of small helpers here spends it), with the same rules as response-framing.ts.
   */
  whole(response: OutgoingResponse, body: Buffer | string | null): boolean {
    const status = response.statusCode;
    const noBody = response.request.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let length = body === null ? 0 : typeof body === 'string' ? utf8Length(body) : body.length;
    if (response._contentLength >= 0 && response._contentLength !== length && !noBody) {
      throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `Content-Length ${response._contentLength} was set but the body has ${length} bytes`);
    }
    response.headersSent = true;
    let framing: string;
    if (status === 204 || status < 200) framing = '';
    // HEAD answered with the length its GET would have (RFC 9110 9.3.2).
    else if (noBody && body === null && response._contentLength >= 0) framing = `Content-Length: ${response._contentLength}\r\n`;
    else framing = status === 304 ? '' : contentLengthLine(length);
    if (noBody) length = 0;
    const head = serializeHead(status, response.statusMessage, response.headerList,
      `Date: ${response._date ?? httpDate()}\r\n${this.connectionLines(response, false)}${framing}`);
    if (response === this.pipeline.head && joinsText(response, body, length)) {
      this.output.pushText(length === 0 ? head : head + (body as string), head.length + length);
      return true;
    }
    const data = wholeAsBuffers(head, body, length);
    if (!Array.isArray(data)) return this.pipeline.write(response, data);
    this.pipeline.write(response, data[0]);
    return this.pipeline.write(response, data[1]);
  }

  /** The head of a streamed response; true when output is due to be flushed. */
  head(response: OutgoingResponse): boolean {
    response.headersSent = true;
    const framingLine = streamFraming(response);
    const head = buildHead(response, this.connectionLines(response, isCloseDelimited(response)), framingLine);
    return this.pipeline.write(response, Buffer.from(head, 'latin1'));
  }

  /** One chunk of a streamed body, framed as its head declared; true when output is due to be flushed. */
  chunk(response: OutgoingResponse, chunk: Buffer | string): boolean {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (response._remaining >= 0) {
      if (data.length > response._remaining) {
        throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `write of ${data.length} bytes exceeds the declared Content-Length`);
      }
      response._remaining -= data.length;
    }
    const framed = response._chunked ? chunkAsBuffers(data) : data;
    if (!Array.isArray(framed)) return this.pipeline.write(response, framed);
    let due = false;
    for (const part of framed) due = this.pipeline.write(response, part);
    return due;
  }

  /** The end of a streamed body (the last chunk and trailers); true when output is due to be flushed. */
  end(response: OutgoingResponse, trailers: readonly string[] | null): boolean {
    return response._chunked ? this.pipeline.write(response, lastChunk(trailers)) : false;
  }

  /**
   * The engine answers in the handler's place (a timeout, CONNECT, a malformed body) with a complete
   * error response that closes the connection; later handler writes are ignored. True when output is due.
   */
  answerInstead(response: OutgoingResponse, status: number, reason: CloseReason): boolean {
    response._preempted = true;
    response.finished = true;
    response.headersSent = true;
    response.statusCode = status;
    response._closeReason ??= reason;
    return this.pipeline.write(response, Buffer.from(errorResponse(status), 'latin1'));
  }

  /** Bytes that never parsed have no request: their error answer gets a placeholder slot in the pipeline. */
  placeholder(host: ResponseHost): OutgoingResponse {
    const response = new OutgoingResponse(null as unknown as IncomingRequest, host);
    this.pipeline.push(response);
    return response;
  }

  /**
   * The handler wants the body of a request that asked for 100 Continue (RFC 9110 10.1.1): it is sent
   * now if its response is the oldest, else when its turn comes. True when output is due.
   */
  continueWanted(request: IncomingRequest): boolean {
    if (!request.head.expectContinue || request._ended || request._received !== 0) return false;
    const response = this.pipeline.find(request);
    if (response === null || response.headersSent || response._continueOwed) return false;
    response._continueOwed = true;
    if (response !== this.pipeline.head) return false;
    this.pipeline.sendContinue(response);
    return true;
  }

  /** `Connection: close`, or keep-alive with the advertised limits; decided when the head is built. */
  private connectionLines(response: OutgoingResponse, closeDelimited: boolean): string {
    const request = response.request;
    const host = this.host;
    const isTail = response === this.pipeline.tail;
    const o = this.options;
    // Each rule of atResponseHead needs one of these facts; with none of them in play the answer is
    // keep-alive, decided here because the call would not be inlined into whole() (V8's budget).
    const facts = this.facts;
    const inPlay = response._closeReason !== null || response._userClose || closeDelimited || request === this.input.bodyRequest
      || (isTail && (facts.pendingClose !== null || host.shuttingDown
        || (o.maxConnectionAge > 0 && host.sweeper.now - facts.acceptedAt >= o.maxConnectionAge)));
    if (inPlay) {
      const decision = atResponseHead(response, request, request === this.input.bodyRequest, isTail, closeDelimited, facts,
        host.shuttingDown, host.sweeper.now, o);
      if (decision !== KEEP) {
        response._closeReason = decision.reason;
        if (isTail) this.input.stopAfterCurrent(DISCARD);
        return 'Connection: close\r\n';
      }
    }
    const max = o.maxRequestsPerSocket;
    return host.keepAliveLines.get(max <= 0 ? -1 : max - request.sequence);
  }

  /**
   * The handler is done with this response. A body nobody read is dropped as it arrives, unless so
   * much is left that closing is cheaper; the response leaves once every one before it has.
   */
  complete(response: OutgoingResponse, upgrading: OutgoingResponse | null): Advance {
    response._complete = true;
    const request = response.request;
    if (request !== null && request === this.input.bodyRequest && !request._ended && !request._discarding) {
      request._discard();
      response._closeReason ??= atResponseEnd(request, this.options).reason;
      if (response._closeReason !== null) this.input.stopAfterCurrent(DISCARD);
    }
    return response === this.pipeline.head ? this.pipeline.advance(this.host.app, upgrading) : IN_FLIGHT;
  }
}
