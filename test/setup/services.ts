// Placeholder: replaced by the real-services global setup (issue 4).
export default function setup(): void {}
