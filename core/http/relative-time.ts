/** "3 minutes ago", matching what the browser script shows once it takes over. */
export function relativeTime(then: number, now: number): string {
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 0) return new Date(then).toISOString().slice(0, 10);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} seconds ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  if (days <= 31) return `${Math.floor(days / 7)} weeks ago`.replace(/^1 weeks/, '1 week');
  return new Date(then).toISOString().slice(0, 10);
}

/** "in 12 minutes": a time to come, to the minute. */
export function timeUntil(then: number, now: number): string {
  const minutes = Math.round((then - now) / 60_000);
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 120) return minutes === 1 ? 'in 1 minute' : `in ${minutes} minutes`;
  return `in ${Math.round(minutes / 60)} hours`;
}
