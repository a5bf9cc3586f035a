/** A caller's mistake a control API answers with its status (an unknown model or job, a refused action), never a 500. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
