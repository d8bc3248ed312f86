/** Git content Sluice cannot turn into manifests; shown as the Application's ComparisonError. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}
