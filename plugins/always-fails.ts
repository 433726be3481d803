// A task that fails, to show what an error Result looks like (status "error", the message kept).
export default {
  key: 'always-fails',
  title: 'Always Fails',
  category: 'examples',
  icon: 'triangle-alert',
  description: 'Logs a little, then throws.',
  run({ log }: { log: (message: string) => void }) {
    log('about to fail');
    throw new Error('this task always fails');
  },
};
