import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = { envelopeTo: string[]; raw: string; parsed: ParsedMail };

/** A header as sent (mailparser turns some, like List-*, into structures). */
export function header(mail: ReceivedMail, name: string): string | undefined {
  const line = mail.parsed.headerLines.find((entry) => entry.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n\s+/g, ' ')
    .trim();
}

/** A real SMTP server in this process: what it accepts lands in `received`; `refuseNext` answers the next DATA with an error. */
export async function smtpServer() {
  const received: ReceivedMail[] = [];
  let refusals: { code: number; message: string }[] = [];
  /** While set, DATA is left unanswered once this many mails are accepted in all: the sender waits, as if its process had hung. */
  let acceptOnly: number | null = null;
  const held: ((error?: Error) => void)[] = [];
  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (acceptOnly !== null && accepted >= acceptOnly) {
          held.push(callback);
          return;
        }
        accepted++;
        const refusal = refusals.shift();
        if (refusal) {
          callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            received.push({ envelopeTo: session.envelope.rcptTo.map((to) => to.address), raw, parsed });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** Mail received for one address. */
    to(address: string) {
      return received.filter((mail) => mail.envelopeTo.includes(address));
    },
    refuseNext(code: number, message: string, times = 1) {
      refusals = [...refusals, ...Array.from({ length: times }, () => ({ code, message }))];
    },
    holdAfter(count: number) {
      acceptOnly = accepted + count;
    },
    /** New mail is accepted again; sessions already held stay held. */
    stopHolding() {
      acceptOnly = null;
    },
    heldCount: () => held.length,
    /** Ends the held sessions without accepting their mail: the connection of a dead process. */
    dropHeld() {
      acceptOnly = null;
      for (const callback of held.splice(0)) callback(Object.assign(new Error('connection lost'), { responseCode: 421 }));
    },
    clear() {
      received.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
